"""Page numbers for every list of the API: ``?page=2&per_page=50`` (at most 100 a page)."""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size_query_param = "per_page"
    page_size_query_description = "Results per page (default ISSUES_PAGE_SIZE, at most 100)."
    max_page_size = 100
