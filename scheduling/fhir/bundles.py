"""Search answers: a searchset Bundle with its total, its page's entries and the links to the other pages."""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse
from django.utils.http import urlencode
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource


def base_url(request) -> str:
    """This server's FHIR base as the client reached it, e.g. ``https://clinic.example/fhir``."""
    return request.build_absolute_uri(reverse("fhir-metadata")).removesuffix("/metadata")


def full_url(request, resource: Resource) -> str:
    return f"{base_url(request)}/{resource.get_resource_type()}/{resource.id}"


def searchset(request, *, resources: list[Resource], total: int, offset: int, count: int,
              included: Iterable[Resource] = ()) -> Bundle:
    """The page ``resources`` (matches, from ``offset``) of ``total``, with ``included`` ones after them.

    The links repeat the search's own parameters with ``_offset`` and ``_count``
    set, so a client follows ``next`` to the end without knowing how paging works.
    """
    entries = [{"fullUrl": full_url(request, resource), "resource": resource, "search": {"mode": "match"}}
               for resource in resources]
    entries += [{"fullUrl": full_url(request, resource), "resource": resource, "search": {"mode": "include"}}
                for resource in _unique(included)]
    links = [("self", offset)]
    if count > 0:
        last = max(0, (total - 1) // count * count)
        links.append(("first", 0))
        if offset > 0:
            links.append(("previous", max(0, offset - count)))
        if offset + count < total:
            links.append(("next", offset + count))
        links.append(("last", last))
    return Bundle(type="searchset", total=total, link=[{"relation": relation, "url": _page_url(request, at, count)}
                                                       for relation, at in links], entry=entries or None)


def _page_url(request, offset: int, count: int) -> str:
    kept = [(name, value) for name, value in request.query_params.lists() if name not in ("_offset", "_count")]
    query = [(name, value) for name, many in kept for value in many]
    query += [("_count", count), ("_offset", offset)]
    return f"{request.build_absolute_uri(request.path)}?{urlencode(query)}"


def _unique(resources: Iterable[Resource]) -> list[Resource]:
    """Each included resource once, in the order first met (two appointments share a patient)."""
    seen, kept = set(), []
    for resource in resources:
        key = (resource.get_resource_type(), resource.id)
        if key not in seen:
            seen.add(key)
            kept.append(resource)
    return kept
