"""Page numbers for the API's lists of projects and issues: ``?page=2&per_page=50`` (at most 100
a page); cursors for occurrence lists (``OccurrenceCursorPagination``).

Both are whole numbers in ASCII digits from 1; anything else (``per_page=null``, ``page=0``,
``page=²``) is refused with 400 instead of being read as the default, so a client learns of its
mistake. A page past the last one is 404; ``per_page`` over 100 is served as 100.
"""

import re
from urllib.parse import parse_qs, urlsplit

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

from pipeline.params import ascii_int

_DIGITS = re.compile(r"[0-9]+")
# Past this, a page number or a page size is read as "more than there is" without int(): a page
# past the last one (404), or the largest page.
_HUGE = 10**18


class Pagination(PageNumberPagination):
    page_query_description = "A page number, from 1; past the last page the answer is 404."
    page_size_query_param = "per_page"
    page_size_query_description = (
        "Results per page (default ISSUES_PAGE_SIZE); above 100, 100 are served."
    )
    max_page_size = 100
    last_page_strings = ()

    def _whole_number(self, request, name: str) -> int | None:
        value = request.query_params.get(name)
        if value is None:
            return None
        if not _DIGITS.fullmatch(value) or not value.strip("0"):
            raise ValidationError({name: [f"{name} is a whole number from 1, in ASCII digits."]})
        return ascii_int(value.lstrip("0")) or _HUGE

    def get_page_number(self, request, paginator) -> int:
        number = self._whole_number(request, self.page_query_param) or 1
        if number >= _HUGE:
            raise NotFound(self.invalid_page_message)
        return number

    def get_page_size(self, request) -> int:
        size = self._whole_number(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters


class OccurrenceCursorPagination(CursorPagination):
    """Cursors for occurrence lists (``?cursor=...&per_page=50``), as Sentry's API pages its
    events: a page is found by the position of the last row seen, so page 4,000 of a hot issue
    costs what page 1 costs (an OFFSET reads and drops every row before it). The answer carries
    ``next`` and ``previous`` and a ``Link`` header in Sentry's form, each link with
    ``results="true|false"`` and its ``cursor``; ``count`` is the issue's ``times_seen`` (its
    occurrences, kept by the consumer: no COUNT over them). ``page`` is not read."""

    ordering = ("-timestamp", "-id")
    page_size_query_param = "per_page"
    page_size_query_description = Pagination.page_size_query_description
    max_page_size = 100
    cursor_query_description = "The cursor of a page: from the `next` or `previous` link."

    def get_page_size(self, request) -> int:
        size = Pagination._whole_number(self, request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.count = getattr(view, "result_count", None)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data) -> Response:
        next_link, previous_link = self.get_next_link(), self.get_previous_link()
        current = self.request.build_absolute_uri()
        links = ", ".join(
            f'<{link or current}>; rel="{rel}"; results="{"true" if link else "false"}"; '
            f'cursor="{_cursor_of(link)}"'
            for rel, link in (("previous", previous_link), ("next", next_link))
        )
        return Response(
            {"count": self.count, "next": next_link, "previous": previous_link, "results": data},
            headers={"Link": links},
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"] = {
            "count": {"type": "integer", "nullable": True},
            **paginated["properties"],
        }
        paginated["required"] = ["count", "next", "previous", "results"]
        return paginated

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters


def _cursor_of(link: str | None) -> str:
    if not link:
        return ""
    return parse_qs(urlsplit(link).query).get(OccurrenceCursorPagination.cursor_query_param, [""])[
        0
    ]
