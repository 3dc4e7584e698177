"""The registry of issue types, and every place that lists the types reading it."""

import yaml
from django.core.management import call_command

from issues import grouptypes
from issues.filters import IssueFilter
from issues.models import Issue, IssueType
from issues.occurrence_message import DEFAULT_TITLES, ISSUE_TYPES
from replays.detection.occurrence import TITLES, TYPE_IDS

# ARCHITECTURE.md, "Issue types and detection".
ARCHITECTURE_IDS = {
    5001: "replay_dead_click",
    5002: "replay_rage_click",
    5003: "replay_hydration_error",
    5004: "replay_slow_click",
    5005: "replay_error_click",
}


def test_the_registry_holds_the_designed_types_with_lookups_both_ways():
    assert {t.type_id: t.slug for t in grouptypes.all_group_types()} == ARCHITECTURE_IDS
    for type_id, slug in ARCHITECTURE_IDS.items():
        group_type = grouptypes.get_by_id(type_id)
        assert group_type is grouptypes.get_by_slug(slug)
        assert group_type.title
        assert group_type.label
        assert group_type.description
        assert group_type.default_level in {"debug", "info", "warning", "error", "fatal"}
    assert [t.type_id for t in grouptypes.all_group_types() if not t.enabled_by_default] == [5005]
    assert grouptypes.HYDRATION_ERROR.category is not grouptypes.DEAD_CLICK.category


def test_lookups_of_what_is_not_registered_answer_none():
    for value in (0, 5000, 5006, True, "5001", None, [5001], 5001.0):
        assert grouptypes.get_by_id(value) is None
    for value in ("", "replay_click", "REPLAY_DEAD_CLICK", None, 5001, ["replay_dead_click"]):
        assert grouptypes.get_by_slug(value) is None
    assert grouptypes.label_of("replay_gone") == "replay_gone"


def test_every_list_of_types_is_the_registry():
    registered = [(t.slug, t.label) for t in grouptypes.all_group_types()]
    assert IssueType.choices == registered
    assert Issue._meta.get_field("type").choices == registered
    assert list(IssueFilter.base_filters["type"].extra["choices"]) == registered
    assert {t.type_id: t.slug for t in grouptypes.all_group_types()} == ISSUE_TYPES
    assert {t.type_id: t.title for t in grouptypes.all_group_types()} == DEFAULT_TITLES
    # The click producer's ids and titles are the registry's.
    for click_type, type_id in TYPE_IDS.items():
        assert grouptypes.get_by_slug(click_type.value).type_id == type_id
        assert grouptypes.get_by_id(type_id).title == TITLES[click_type]


def test_the_api_schema_enumerates_the_registered_types(db, tmp_path):
    schema = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(schema))
    document = yaml.safe_load(schema.read_text())
    slugs = {t.slug for t in grouptypes.all_group_types()}
    enums = [
        set(value["enum"])
        for value in document["components"]["schemas"].values()
        if isinstance(value, dict) and "replay_dead_click" in value.get("enum", [])
    ]
    assert enums
    assert all(enum == slugs for enum in enums)


def test_the_migrations_match_the_models(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
