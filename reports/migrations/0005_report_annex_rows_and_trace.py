from django.db import migrations, models


def drop_kept_annexes(apps, schema_editor):
    # Kept before their rows and trace were: the next export of each version works it out again.
    apps.get_model("reports", "ReportAnnex").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_report_annex"),
    ]

    operations = [
        migrations.RunPython(drop_kept_annexes, migrations.RunPython.noop),
        migrations.AddField(
            model_name="reportannex",
            name="rows",
            field=models.JSONField(default=list, help_text="the listed records' annex lines"),
        ),
        migrations.AddField(
            model_name="reportannex",
            name="trace",
            field=models.JSONField(default=list, help_text="the calculation trace of each line"),
        ),
    ]
