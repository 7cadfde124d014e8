"""The SCIM service every organisation's endpoint shares: Users (with the enterprise extension
Entra ID sends), Groups (the roles on the organisation's accounts), the capabilities it announces,
and the tolerances Entra ID needs."""

from __future__ import annotations

from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    EnterpriseUser,
    ETag,
    External,
    Filter,
    Group,
    Patch,
    Reference,
    Resource,
    ResourceType,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    User,
)
from scim2_server.service import ScimService

MAX_RESULTS = 200

BEARER = AuthenticationScheme(
    type=AuthenticationScheme.Type.oauthbearertoken,
    name="Bearer token",
    description="The organisation's SCIM token, made on its page in Business ID",
    spec_uri=Reference[External]("https://datatracker.ietf.org/doc/html/rfc6750"),
    primary=True,
)

CONFIG = ServiceProviderConfig(
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=True),
    etag=ETag(supported=True),
    authentication_schemes=[BEARER],
)

# Entra ID removes a value by giving it (not a path filter) and replaces entries a filter names
# before they exist; an attribute no schema here declares is dropped, not refused.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

PROVIDER = ScimProvider(
    models=[User, EnterpriseUser, Group],
    resource_types=[ResourceType.from_resource(User[EnterpriseUser]), ResourceType.from_resource(Group)],
    config=CONFIG,
    policy=POLICY,
)
SERVICE = ScimService(PROVIDER)
USER_MODEL: type[Resource[Any]] = SERVICE.get_model(PROVIDER.resource_types[0])
GROUP_MODEL: type[Resource[Any]] = SERVICE.get_model(PROVIDER.resource_types[1])
