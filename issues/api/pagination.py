"""Page numbers for the API's lists of projects and issues: ``?page=2&per_page=50`` (at most 100
a page); cursors for a project's issues (``IssueListPagination``, beside its page numbers) and
for occurrence lists (``OccurrenceCursorPagination``).

Both are whole numbers in ASCII digits from 1; anything else (``per_page=null``, ``page=0``,
``page=²``) is refused with 400 instead of being read as the default, so a client learns of its
mistake. A page past the last one is 404; ``per_page`` over 100 is served as 100.
"""

import re
from urllib.parse import parse_qs, urlsplit

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from issues import cursors
from issues.queries import IssueCount, IssuePage, issue_count_bound, issue_list_page
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


class IssueListPagination(Pagination):
    """A project's issues, by page number (``?page=``) or by cursor (``?cursor=``), as Sentry's
    API pages its issue stream: a cursor names the position of the issue before the page, found
    by the sort's index, so a deep page costs what the first costs (page 1,000 by number reads
    and drops 24,975 issues first).

    ``next`` and ``previous`` page the way the request did (by number, or by cursor); the
    ``Link`` header always pages by cursor, in Sentry's form. ``count`` is exact when only the
    status is filtered (the project's status counts); with another filter the matching issues
    are counted up to ``ISSUES_COUNT_BOUND`` or the rows up to the asked page, the more of the
    two, and past that the count is that bound: ``X-Max-Hits`` then says so (``X-Hits`` is
    always ``count``), as Sentry's ``X-Hits``/``X-Max-Hits``. The view answers ``count`` by
    ``matching_count(queryset, bound)``."""

    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        sort = request.query_params.get("sort") or "last_seen"
        text = request.query_params.get(self.cursor_query_param)
        if text is not None:
            cursor = cursors.decode(text)
            if cursor is None:
                raise ValidationError({self.cursor_query_param: [CURSOR_REFUSED]})
            if cursor.sort != sort:
                raise NotFound(
                    f"This cursor is of the list sorted by {cursor.sort}: ask with "
                    f"sort={cursor.sort}, or leave cursor out for the first page."
                )
            self.bound = issue_count_bound()
            self.count: IssueCount = view.matching_count(queryset, self.bound)
            self.page: IssuePage = issue_list_page(queryset, sort, size, cursor=cursor)
            return self.page.rows
        number = self.get_page_number(request, None)
        if (number - 1) * size >= _HUGE:
            raise NotFound(self.invalid_page_message)
        # Counted first: a page past the last one is 404 without an OFFSET that long.
        self.bound = max(issue_count_bound(), number * size)
        self.count = view.matching_count(queryset, self.bound)
        if number > 1 and not self.count.more and (number - 1) * size >= self.count.n:
            raise NotFound(self.invalid_page_message)
        self.page = issue_list_page(queryset, sort, size, page=number)
        if number > 1 and not self.page.rows:
            raise NotFound(self.invalid_page_message)
        return self.page.rows

    def get_next_link(self) -> str | None:
        url = remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
        if self.page.number is None:
            return self._cursor_link(self.page.next_cursor)
        if self.page.next_cursor is None:
            return None
        return replace_query_param(url, self.page_query_param, self.page.number + 1)

    def get_previous_link(self) -> str | None:
        url = remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
        if self.page.number is None:
            return self._cursor_link(self.page.previous_cursor)
        if self.page.number == 1:
            return None
        if self.page.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.page.number - 1)

    def _cursor_link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data) -> Response:
        current = self.request.build_absolute_uri()
        links = ", ".join(
            f'<{self._cursor_link(cursor) or current}>; rel="{rel}"; '
            f'results="{"true" if cursor else "false"}"; cursor="{cursor or ""}"'
            for rel, cursor in (
                ("previous", self.page.previous_cursor),
                ("next", self.page.next_cursor),
            )
        )
        headers = {"Link": links, "X-Hits": str(self.count.n)}
        if self.count.more:
            headers["X-Max-Hits"] = str(self.bound)
        return Response(
            {
                "count": self.count.n,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            },
            headers=headers,
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count"]["description"] = (
            "The issues that match: exact when only `status` filters; with another filter, "
            f"counted up to {issue_count_bound():,} or the issues up to the asked page (the more), "
            "and at most that bound: then the `X-Max-Hits` header is sent, equal to `count`."
        )
        paginated["required"] = ["count", "next", "previous", "results"]
        return paginated

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        parameters.append(
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The cursor of a page: from the `next` or `previous` link, or the "
                "`Link` header (`page` is then not read). A cursor is of one `sort`: with "
                "another, the answer is 404.",
                "schema": {"type": "string", "pattern": cursors.CURSOR_PATTERN},
            }
        )
        return parameters


CURSOR_REFUSED = (
    "Not a cursor: follow the next or previous link (or the Link header), or leave cursor out "
    "for the first page."
)


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
