"""API tokens, read with their user and the user's clinic roles in one statement.

DRF's ``TokenAuthentication`` reads the token and its user, and the first
permission check then reads the user's groups (``clinic.roles.roles_of``):
two queries, and the ORM's work to build them, on every API request. Here
one fixed statement answers both, and the roles are cached on the user as
``roles_of`` would cache them. The checks and the 401 answers are DRF's.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from clinic.roles import cache_roles
from clinic.rows import RowModel

TOKEN = RowModel(Token)


def _user() -> RowModel:
    return RowModel.of(get_user_model())


@cache
def _sql() -> str:
    User = get_user_model()
    memberships = User.groups.through._meta.db_table
    groups = User.groups.field.related_model._meta.db_table
    return f"""
        SELECT {TOKEN.columns("t")}, {_user().columns("u")},
               ARRAY(SELECT g.name FROM {memberships} ug JOIN {groups} g ON g.id = ug.group_id
                     WHERE ug.user_id = u.id)
        FROM {Token._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id
        WHERE t.key = %(key)s"""


class TokenWithRolesAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, as DRF's, in one query with the user's roles."""

    def authenticate_credentials(self, key: str):
        if "\x00" in key:  # PostgreSQL text cannot hold NUL; no token has one
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        with connection.cursor() as cursor:
            cursor.execute(_sql(), {"key": key})
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token, at = TOKEN.take(row, 0)
        user, at = _user().take(row, at)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token.user = user
        cache_roles(user, row[at])
        return user, token
