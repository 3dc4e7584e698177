"""Page numbers for every list of the API: ``?page=2&per_page=50`` (at most 100 a page).

Both are whole numbers in ASCII digits from 1; anything else (``per_page=null``, ``page=0``,
``page=²``) is refused with 400 instead of being read as the default, so a client learns of its
mistake. A page past the last one is 404; ``per_page`` over 100 is served as 100.
"""

import re

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination

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
