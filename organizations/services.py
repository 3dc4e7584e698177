"""Writes of organizations."""

from organizations.models import Organization


def organization_ensure(org_id: int) -> Organization:
    """The organization ``org_id``, created with a placeholder name and slug if it does not exist
    yet (``createproject --org-id``); both can be changed in the admin."""
    organization, _ = Organization.objects.get_or_create(
        id=org_id, defaults={"name": f"Organization {org_id}", "slug": f"org-{org_id}"}
    )
    return organization
