"""The replays consumer on the real broker and database: SDK captures in, replays and
occurrences out, bad messages to the dead-letter topic, nothing lost, nothing doubled."""

import threading
import zlib
from urllib.parse import urlsplit

import msgpack
import orjson
import pytest
from django.core.files.storage import storages
from django.db import OperationalError
from prometheus_client import REGISTRY
from sentry_kafka_schemas import get_codec

from ingest.envelope import parse_envelope
from issues.models import Issue, Occurrence
from replays import consumer as consumer_module
from replays import services
from replays.detection.fingerprint import legacy_parts
from replays.detection.occurrence import TYPES_BY_ID
from replays.models import DetectionSettings, Replay, ReplaySegment
from tests.consumers import (
    committed_offsets,
    produce,
    start_occurrences_consumer,
    start_recordings_consumer,
    wait_until,
)
from tests.replays.messages import (
    decompression_bomb,
    fixture_message,
    fixture_messages,
    with_fields,
)
from tests.sdk_fixtures import replay_requests, scenario_replay_requests, scenario_requests

pytestmark = pytest.mark.django_db(transaction=True)

occurrence_codec = get_codec("ingest-occurrences")


def occurrences_on(topic_reader, topic: str, count: int, timeout_s: float = 10.0) -> list[dict]:
    messages = topic_reader(topic, count, timeout_s)
    return [occurrence_codec.decode(m.value(), validate=True) for m in messages]


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def summary(occurrence: dict) -> tuple[str, str, str]:
    click_type = TYPES_BY_ID[occurrence["type"]].value
    return (
        click_type,
        occurrence["evidence_data"]["selector"],
        legacy_parts(occurrence["fingerprint"][1])[2],
    )


def post_captures(client, sdk_requests) -> None:
    """Post the SDK's captured requests to the envelope endpoint as it sent them; each is a 200."""
    for sdk_request in sdk_requests:
        response = client.post(
            sdk_request.path,
            data=sdk_request.body,
            content_type="text/plain;charset=UTF-8",
            headers=sdk_request.client_headers,
        )
        assert response.status_code == 200, response.content


def test_the_sdk_captures_become_one_replay_and_the_expected_occurrences(
    client, sdk_project, recordings_topic, occurrences_topic, recordings_dlq_topic, topic_reader
):
    post_captures(client, replay_requests())
    processed = metric("replay_issues_segments_processed_total")
    dead = metric("replay_issues_occurrences_produced_total", type="replay_dead_click")
    timed = metric("replay_issues_segment_processing_seconds_count", stage="detect")
    consumer = start_recordings_consumer()
    try:
        wait_until(lambda: ReplaySegment.objects.count() == len(replay_requests()), what="segments")
        occurrences = occurrences_on(topic_reader, occurrences_topic, 6, timeout_s=3)
    finally:
        consumer.stop()
    assert metric("replay_issues_segments_processed_total") == processed + len(replay_requests())
    assert metric("replay_issues_occurrences_produced_total", type="replay_dead_click") == dead + 3
    detected = metric("replay_issues_segment_processing_seconds_count", stage="detect")
    assert detected == timed + len(replay_requests())

    assert sorted(summary(o) for o in occurrences) == sorted(
        [
            ("replay_dead_click", "body > button#buy.btn.primary", "/index.html"),
            ("replay_rage_click", "body > button#buy.btn.primary", "/index.html"),
            ("replay_slow_click", "body > button#slowok.btn", "/index.html"),
            ("replay_dead_click", "body > nav > a#cart", "/cart"),
            ("replay_dead_click", 'body > input#submit[type="submit"]', "/cart"),
        ]
    )
    replay = Replay.objects.get()
    assert replay.replay_id.hex == "40196c4efd834eedaa8e1947c813b364"
    assert (replay.project_id, replay.segment_count) == (sdk_project.project_id, 7)
    assert (replay.user_id, replay.release, replay.environment) == ("u-77", "shop@1.4.2", "staging")
    assert (replay.browser, replay.os) == ("Chrome", "Linux")
    assert (replay.dead_clicks, replay.rage_clicks, replay.slow_clicks) == (3, 1, 1)
    assert replay.multi_clicks == 1
    assert replay.started_at < replay.last_seen_at
    assert [urlsplit(url).path for url in replay.urls][:1] == ["/index.html"]
    for occurrence in occurrences:
        assert occurrence["resource_id"] == replay.replay_id.hex
        assert occurrence["event"]["user"]["id"] == "u-77"
        assert occurrence["event"]["contexts"]["browser"]["name"] == "Chrome"
    # Each recording is kept, compressed, and reads back as the segment's rrweb events.
    for segment, sdk_request in zip(
        replay.segments.order_by("segment_id"), replay_requests(), strict=True
    ):
        with storages["recordings"].open(segment.recording) as stored:
            events = zlib.decompress(stored.read())
        assert events == zlib.decompress(_recording_body(sdk_request))
        assert orjson.loads(events)
        assert segment.size == len(events)
        assert segment.occurrences_published


def _recording_body(sdk_request) -> bytes:
    envelope = parse_envelope(sdk_request.body)
    item = next(item for item in envelope.items if item.type == "replay_recording")
    return item.payload.partition(b"\n")[2]


def test_poison_messages_go_to_the_dead_letter_topic_and_the_good_ones_around_them_are_processed(
    sdk_project, recordings_topic, occurrences_topic, recordings_dlq_topic, topic_reader
):
    first, second = (
        fixture_message(r, project_id=sdk_project.project_id) for r in replay_requests()[1:3]
    )
    header = msgpack.unpackb(first)["payload"].partition(b"\n")[0]
    bomb = with_fields(first, payload=header + b"\n" + decompression_bomb("json"))
    unknown_project = fixture_message(replay_requests()[3], project_id=4242)
    produce(recordings_topic, [first, b"\xc1 not msgpack", bomb, unknown_project, second])
    consumer = start_recordings_consumer()
    try:
        wait_until(lambda: ReplaySegment.objects.count() == 2, what="both good segments")
        dead_letters = topic_reader(recordings_dlq_topic, 3)
    finally:
        consumer.stop()
    assert metric("replay_issues_dlq_messages_total", topic=recordings_dlq_topic) == 3

    assert [m.value() for m in dead_letters] == [b"\xc1 not msgpack", bomb, unknown_project]
    headers = [dict(m.headers()) for m in dead_letters]
    assert [h["original_offset"] for h in headers] == [b"1", b"2", b"3"]
    assert {h["original_topic"] for h in headers} == {recordings_topic.encode()}
    assert b"msgpack" in headers[0]["reason"]
    assert b"inflates past" in headers[1]["reason"]
    assert headers[2]["reason"] == b"project 4242 does not exist"
    assert sorted(ReplaySegment.objects.values_list("segment_id", flat=True)) == [1, 2]


def test_a_redelivered_segment_changes_nothing_and_sends_no_occurrence_twice(
    sdk_project, recordings_topic, occurrences_topic, recordings_dlq_topic, topic_reader
):
    dead_click = fixture_message(replay_requests()[1], project_id=sdk_project.project_id)
    produce(recordings_topic, [dead_click, dead_click])
    consumer = start_recordings_consumer()
    try:
        wait_until(lambda: ReplaySegment.objects.filter(occurrences_published=True).exists())
    finally:
        consumer.stop()
    # A second group reads the topic again from the start: both copies once more.
    consumer = start_recordings_consumer()
    try:
        wait_until(lambda: _committed(consumer) == 2, what="the second group to commit")
    finally:
        consumer.stop()

    replay = Replay.objects.get()
    assert (replay.segment_count, replay.dead_clicks) == (1, 1)
    assert len(topic_reader(occurrences_topic, 2, timeout_s=2)) == 1


def _committed(consumer_thread) -> int:
    """The offsets the consumer's group committed on the recordings topic."""
    from django.conf import settings

    return committed_offsets(consumer_thread.group_id, settings.TOPIC_REPLAY_RECORDINGS)


def test_settings_changed_in_the_admin_apply_to_the_next_segments(
    sdk_project, recordings_topic, occurrences_topic, recordings_dlq_topic, topic_reader
):
    requests = replay_requests()
    consumer = start_recordings_consumer()
    try:
        produce(recordings_topic, [fixture_message(requests[1], project_id=sdk_project.project_id)])
        wait_until(lambda: ReplaySegment.objects.count() == 1)
        DetectionSettings.objects.filter(project=sdk_project.project).update(
            rage_clicks_enabled=False, ignore_selectors="nav > a\n#submit"
        )
        produce(
            recordings_topic,
            [
                fixture_message(r, project_id=sdk_project.project_id)
                for r in (requests[2], requests[6])
            ],
        )
        wait_until(lambda: ReplaySegment.objects.count() == 3)
    finally:
        consumer.stop()

    occurrences = occurrences_on(topic_reader, occurrences_topic, 2, timeout_s=3)
    assert [summary(o)[0] for o in occurrences] == ["replay_dead_click"]
    # Muted clicks still count on the replay.
    assert Replay.objects.get().rage_clicks == 1


def test_a_database_outage_pauses_the_consumer_without_committing_and_loses_nothing(
    sdk_project,
    recordings_topic,
    occurrences_topic,
    recordings_dlq_topic,
    topic_reader,
    monkeypatch,
):
    database_back = threading.Event()
    attempts = []
    real_record = consumer_module.replay_record_segments

    def record_when_the_database_is_back(*args):
        attempts.append(1)
        if not database_back.is_set():
            raise OperationalError("connection refused (simulated outage)")
        return real_record(*args)

    monkeypatch.setattr(consumer_module, "replay_record_segments", record_when_the_database_is_back)
    produce(
        recordings_topic, [fixture_message(replay_requests()[1], project_id=sdk_project.project_id)]
    )
    consumer = start_recordings_consumer()
    try:
        wait_until(lambda: len(attempts) >= 4, what="retries during the outage")
        assert _committed(consumer) == 0
        assert not ReplaySegment.objects.exists()
        database_back.set()
        wait_until(lambda: ReplaySegment.objects.filter(occurrences_published=True).exists())
        wait_until(lambda: _committed(consumer) == 1, what="the commit after the outage")
    finally:
        consumer.stop()

    assert len(occurrences_on(topic_reader, occurrences_topic, 1)) == 1
    assert not topic_reader(recordings_dlq_topic, 1, timeout_s=1)


def test_a_recordings_storage_that_cannot_write_pauses_the_consumer_until_it_can(
    sdk_project,
    recordings_topic,
    occurrences_topic,
    recordings_dlq_topic,
    topic_reader,
    settings,
    tmp_path,
    caplog,
):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    recordings = settings.STORAGES["recordings"]
    writable = recordings["OPTIONS"]["location"]
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            **recordings,
            "OPTIONS": {**recordings["OPTIONS"], "location": str(blocked / "x")},
        },
    }
    produce(
        recordings_topic, [fixture_message(replay_requests()[1], project_id=sdk_project.project_id)]
    )
    consumer = start_recordings_consumer()
    try:
        wait_until(lambda: caplog.text.count("storage unavailable") >= 3, what="retries")
        assert not ReplaySegment.objects.exists()
        assert _committed(consumer) == 0
        settings.STORAGES = {
            **settings.STORAGES,
            "recordings": {
                **recordings,
                "OPTIONS": {**recordings["OPTIONS"], "location": writable},
            },
        }
        wait_until(lambda: ReplaySegment.objects.filter(occurrences_published=True).exists())
    finally:
        consumer.stop()
    assert not topic_reader(recordings_dlq_topic, 1, timeout_s=1)


def test_a_segment_the_database_refuses_goes_to_the_dlq_and_its_batch_is_kept(
    sdk_project,
    recordings_topic,
    occurrences_topic,
    recordings_dlq_topic,
    topic_reader,
    monkeypatch,
):
    """One segment of a batch that the database cannot store (a size past any integer column)
    sends the batch one segment at a time: that one goes to the DLQ, in its place beside an
    undecodable message of the same batch, and the others are stored and published."""
    make_row = services._segment_row

    def refused_row(replay, segment, detection):
        row = make_row(replay, segment, detection)
        if segment.segment_id == 2:
            row.size = 2**70
        return row

    monkeypatch.setattr(services, "_segment_row", refused_row)
    messages = fixture_messages(project_id=sdk_project.project_id)[:5]
    values = [*messages[:4], b"\xc1 not msgpack", messages[4]]
    produce(recordings_topic, values)

    def one_batch(factory):
        factory.max_batch_size, factory.max_batch_time_s = len(values), 5.0
        return factory

    consumer = start_recordings_consumer(factory_wrapper=one_batch)
    try:
        wait_until(lambda: _committed(consumer) == len(values), what="the batch committed")
        dead_letters = topic_reader(recordings_dlq_topic, 2, timeout_s=10)
    finally:
        consumer.stop()

    assert [m.value() for m in dead_letters] == [values[2], values[4]]
    assert [dict(m.headers())["original_offset"] for m in dead_letters] == [b"2", b"4"]
    reason = dict(dead_letters[0].headers())["reason"].decode()
    assert reason.startswith(("the database refused the segment", "storing failed"))
    assert sorted(ReplaySegment.objects.values_list("segment_id", flat=True)) == [0, 1, 3, 4]
    assert Replay.objects.get().segment_count == 4
    assert not ReplaySegment.objects.filter(occurrences_published=False).exists()


def test_the_hydrate_capture_becomes_hydration_error_occurrences_and_issues(
    client,
    sdk_project,
    recordings_topic,
    recordings_dlq_topic,
    occurrences_topic,
    occurrences_dlq_topic,
    events_topic,
    topic_reader,
):
    """The hydrate scenario (a React app that fails to hydrate on /index.html, then twice on
    /cart), posted as the SDK sent it: three 5003 occurrences beside the session's two dead
    clicks, grouped by the issues consumer into one hydration error issue per page."""
    captures = scenario_requests("hydrate")
    post_captures(client, captures)
    segments = len(scenario_replay_requests("hydrate"))
    produced = metric("replay_issues_occurrences_produced_total", type="replay_hydration_error")
    consumer = start_recordings_consumer()
    try:
        wait_until(lambda: ReplaySegment.objects.count() == segments, what="segments")
        occurrences = occurrences_on(topic_reader, occurrences_topic, 5, timeout_s=5)
    finally:
        consumer.stop()
    hydration = [o for o in occurrences if o["type"] == 5003]
    assert sorted(o["fingerprint"] for o in hydration) == [
        ["replay_hydration_error", "/cart"],
        ["replay_hydration_error", "/cart"],
        ["replay_hydration_error", "/index.html"],
    ]
    assert sorted(o["type"] for o in occurrences) == [5001, 5001, 5003, 5003, 5003]
    assert (
        metric("replay_issues_occurrences_produced_total", type="replay_hydration_error")
        == produced + 3
    )
    replay = Replay.objects.get()
    assert replay.replay_id.hex == "90e1eddb40b641899ece15447de2fb5a"
    assert (replay.hydration_errors, replay.dead_clicks) == (3, 2)
    for occurrence in hydration:
        assert occurrence["issue_title"] == "Hydration Error"
        assert occurrence["resource_id"] == replay.replay_id.hex
        assert occurrence["event"]["release"] == "shop@1.4.2"
        assert occurrence["event"]["environment"] == "staging"
        assert occurrence["event"]["user"]["id"] == "u-77"

    issues_consumer = start_occurrences_consumer()
    try:
        wait_until(lambda: Occurrence.objects.count() == 5, what="five occurrences")
    finally:
        issues_consumer.stop()
    grouped = sorted(
        (issue.culprit, issue.title, issue.times_seen, issue.is_visible)
        for issue in Issue.objects.filter(type="replay_hydration_error")
    )
    assert grouped == [
        ("/cart", "Hydration Error", 2, True),
        ("/index.html", "Hydration Error", 1, True),
    ]
    # The dead clicks are on one button with a test id, on two pages: one issue.
    assert Issue.objects.get(type="replay_dead_click").times_seen == 2


def test_the_hashed_capture_gives_one_issue_per_button_across_a_deploy(
    client,
    sdk_project,
    recordings_topic,
    recordings_dlq_topic,
    occurrences_topic,
    occurrences_dlq_topic,
    topic_reader,
):
    """The hashed scenario: two buttons, each dead-clicked before and after a "deploy" that
    changed every class hash (CSS modules and emotion). Posted as the SDK sent it and consumed on
    the broker, the four clicks are two issues: "Pay" by its test id, "Use gift card" (no test
    id) by its tag, text and the path without the hashed class names, on its page."""
    post_captures(client, scenario_requests("hashed"))
    segments = len(scenario_replay_requests("hashed"))
    consumer = start_recordings_consumer()
    try:
        wait_until(lambda: ReplaySegment.objects.count() == segments, what="segments")
        occurrences = occurrences_on(topic_reader, occurrences_topic, 4, timeout_s=5)
    finally:
        consumer.stop()
    assert [o["type"] for o in occurrences] == [5001] * 4
    # Version 1 grouped them by the selector: four fingerprints, four issues.
    assert len({o["fingerprint"][1] for o in occurrences}) == 4
    assert len({o["fingerprint"][0] for o in occurrences}) == 2

    issues_consumer = start_occurrences_consumer()
    try:
        wait_until(lambda: Occurrence.objects.count() == 4, what="four occurrences")
    finally:
        issues_consumer.stop()
    issues = {issue.metadata["text"]: issue for issue in Issue.objects.all()}
    assert sorted(issues) == ["Pay", "Use gift card"]
    for issue in issues.values():
        assert (issue.times_seen, issue.users_seen, issue.type) == (2, 1, "replay_dead_click")
        # Shown as the SDK wrote it: the first occurrence's selector, hashes and all.
        assert "css-" in issue.selector
        assert issue.hashes.count() == 3  # its version 2 hash and both version 1 hashes
    assert issues["Pay"].fingerprint[0] == 'v2 replay_dead_click testid="pay" tag="button"'
    assert issues["Use gift card"].fingerprint[0] == (
        'v2 replay_dead_click tag="button" text="Use gift card" '
        'path="body > section#lab > div.Checkout_actions > button.Button_ghost" '
        'page="/index.html"'
    )
    assert topic_reader(occurrences_dlq_topic, 1, timeout_s=1) == []
