"""Settings › Models: which model is a variant of which, and how it was made."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.principal import Access, Principal
from accounts.views import settings_context, settings_page, submit_form
from inventory.model_variants import model_variant_set
from inventory.models import OptimisationTechnique
from inventory.selectors import visible_model_or_404, visible_models


class VariantForm(forms.Form):
    base_model = forms.TypedChoiceField(
        choices=(), coerce=int, empty_value=None, required=False, label="Variant of"
    )
    technique = forms.ChoiceField(
        choices=[("", "—"), *OptimisationTechnique.choices], required=False, label="How"
    )
    precision = forms.CharField(max_length=20, required=False, label="Precision (quantised)")
    note = forms.CharField(max_length=500, required=False, label="Note")

    def __init__(self, *args, principal: Principal, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = visible_models(principal=principal).values_list("id", "name")
        self.fields["base_model"].choices = [("", "not a variant"), *choices]


@settings_page()
def models_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    models = visible_models(principal=principal).select_related("base_model").order_by("name")
    rows = [
        {
            "model": model,
            "form": VariantForm(
                principal=principal,
                prefix=f"m{model.id}",
                initial={
                    "base_model": model.base_model_id,
                    "technique": model.technique,
                    "precision": model.precision,
                    "note": model.variant_note,
                },
            ),
        }
        for model in models
    ]
    return render(
        request, "dashboard/settings/models.html", settings_context(principal, "models", rows=rows)
    )


@require_POST
@settings_page(Access.MANAGE)
def model_variant_view(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    model = visible_model_or_404(principal=principal, model_id=pk)

    def save(data: dict) -> None:
        base_id = data.pop("base_model")
        base = (
            None if base_id is None else visible_model_or_404(principal=principal, model_id=base_id)
        )
        model_variant_set(model=model, base_model=base, actor=request.user, **data)

    submit_form(
        request,
        VariantForm(request.POST, principal=principal, prefix=f"m{model.id}"),
        lambda data: f"{model.name} saved",
        save,
    )
    return redirect("settings-models")
