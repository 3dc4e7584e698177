"""Reads that the envelope endpoint needs: which project key a request authenticates with."""

from ingest.auth import PUBLIC_KEY
from ingest.errors import Forbidden
from ingest.models import Project, ProjectKey

MAX_PROJECT_ID = 2**31 - 1


def active_project_key(project_id: int, public_key: str) -> ProjectKey:
    """The enabled key ``public_key`` of project ``project_id``, else ``Forbidden`` saying why."""
    if project_id > MAX_PROJECT_ID or not Project.objects.filter(id=project_id).exists():
        raise Forbidden(f"project {project_id} does not exist")
    if not PUBLIC_KEY.match(public_key):
        raise Forbidden("the public key must be 32 lower-case hex digits, as in the DSN")
    key = ProjectKey.objects.select_related("project").filter(public_key=public_key).first()
    if key is None or key.project_id != project_id:
        raise Forbidden(f"the public key is not a key of project {project_id}")
    if not key.is_active:
        raise Forbidden("the public key is disabled")
    return key
