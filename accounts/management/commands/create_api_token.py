from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organisation, Team
from accounts.services import api_token_create
from greenai_portal.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an API token for an organisation and print its key once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--scopes", default="ingest,read", help="comma list: ingest,read")
        parser.add_argument("--team", help="team slug, to limit the token to one team")
        parser.add_argument("--name", default="script", help="a label for the token")

    def handle(self, *args, org: str, scopes: str, team: str | None, name: str, **options):
        organisation = Organisation.objects.filter(slug=org).first()
        if organisation is None:
            raise CommandError(f"No organisation with slug {org!r}")
        team_obj = None
        if team:
            team_obj = Team.objects.filter(organisation=organisation, slug=team).first()
            if team_obj is None:
                raise CommandError(f"No team {team!r} in {org!r}")
        try:
            _, key = api_token_create(
                organisation=organisation, name=name, scopes=scopes.split(","), team=team_obj
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(key)
