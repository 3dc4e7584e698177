"""The registry of issue types, as Sentry's ``grouptype``: what the issue platform groups.

Pure (no Django models): producers read it for the numeric ``type`` and default title of what
they publish, the issues stage for what it accepts, the models for the ``type`` column's choices,
the UI for the type filter and labels and the API for its enum. Adding a type is one entry here
and its producer: the issue platform shows any registered type, from the occurrence's
``evidence_display``. Ids follow Sentry's where Sentry has the type (ARCHITECTURE.md).
"""

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """What kind of problem a type is (Sentry's ``GroupCategory``, the ones we raise)."""

    REPLAY_CLICK = "replay_click"
    REPLAY_PAGE = "replay_page"


@dataclass(frozen=True, slots=True)
class GroupType:
    type_id: int  # the occurrence's ``type``
    slug: str  # the issue's ``type``, in the API, filters and alert rules
    title: str  # an issue's title when its occurrence gives none
    label: str  # what the UI's badges and filter call it
    description: str
    category: Category
    default_level: str
    enabled_by_default: bool = True


DEAD_CLICK = GroupType(
    5001,
    "replay_dead_click",
    "Dead Click",
    "Dead click",
    "A click that got no answer until the SDK stopped waiting.",
    Category.REPLAY_CLICK,
    "warning",
)
RAGE_CLICK = GroupType(
    5002,
    "replay_rage_click",
    "Rage Click",
    "Rage click",
    "A dead click that the user clicked again and again.",
    Category.REPLAY_CLICK,
    "error",
)
HYDRATION_ERROR = GroupType(
    5003,
    "replay_hydration_error",
    "Hydration Error",
    "Hydration error",
    "The server-rendered page did not match what React rendered in the browser.",
    Category.REPLAY_PAGE,
    "error",
)
SLOW_CLICK = GroupType(
    5004,
    "replay_slow_click",
    "Slow Click",
    "Slow click",
    "A click that the page answered late.",
    Category.REPLAY_CLICK,
    "info",
)
ERROR_CLICK = GroupType(
    5005,
    "replay_error_click",
    "Error Click",
    "Error click",
    "A click followed within a second by an error of the same replay.",
    Category.REPLAY_CLICK,
    "error",
    enabled_by_default=False,
)

GROUP_TYPES: tuple[GroupType, ...] = (
    DEAD_CLICK,
    RAGE_CLICK,
    HYDRATION_ERROR,
    SLOW_CLICK,
    ERROR_CLICK,
)
_BY_ID = {group_type.type_id: group_type for group_type in GROUP_TYPES}
_BY_SLUG = {group_type.slug: group_type for group_type in GROUP_TYPES}
assert len(_BY_ID) == len(_BY_SLUG) == len(GROUP_TYPES), "type ids and slugs must be unique"


def all_group_types() -> tuple[GroupType, ...]:
    """Every registered type, in id order."""
    return tuple(sorted(GROUP_TYPES, key=lambda group_type: group_type.type_id))


def get_by_id(type_id: object) -> GroupType | None:
    """The type of an occurrence's numeric ``type``; None when it is not registered."""
    return (
        _BY_ID.get(type_id) if isinstance(type_id, int) and not isinstance(type_id, bool) else None
    )


def get_by_slug(slug: object) -> GroupType | None:
    """The type of an issue's ``type``; None when it is not registered."""
    return _BY_SLUG.get(slug) if isinstance(slug, str) else None


def has_element(slug: str) -> bool:
    """Whether the type's issues are about an element of the page (the click types): the UI
    shows their element and selector; another type shows its occurrences' ``evidence_display``,
    and its issues' ``selector`` is blank."""
    group_type = get_by_slug(slug)
    return group_type is not None and group_type.category == Category.REPLAY_CLICK


def label_of(slug: str) -> str:
    """What the UI calls a type: its label, or the slug itself for a type no longer registered."""
    group_type = get_by_slug(slug)
    return group_type.label if group_type else slug
