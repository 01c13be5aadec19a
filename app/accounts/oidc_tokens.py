"""Checking an ID token: allowed algorithm, signature from the provider's keys, iss, aud, times and nonce."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import Key, KeySet
from joserfc.jws import extract_compact

from app.accounts.oidc import OIDCFailure, ProviderMetadata, signing_keys
from app.settings import ID_TOKEN_ALGORITHMS, OIDCProvider

# Clocks of two servers disagree a little; more than this is reported as a clock problem.
LEEWAY_SECONDS = 60


def unverified_header(id_token: str) -> dict[str, Any]:
    """The JOSE header, read before the signature is checked (only to choose the key)."""
    try:
        return dict(extract_compact(id_token.encode("ascii")).headers())
    except (JoseError, ValueError, UnicodeEncodeError) as error:
        raise OIDCFailure(OIDCFailure.REJECTED, f"ID token is not a compact JWS: {error!r}") from error


def allowed_algorithm(provider: OIDCProvider, algorithm: object) -> str:
    """The header's algorithm if it is asymmetric and allowed for this provider (never none, never HS*)."""
    if not isinstance(algorithm, str) or algorithm not in ID_TOKEN_ALGORITHMS:
        raise OIDCFailure(OIDCFailure.REJECTED, f"ID token algorithm {algorithm!r} is never accepted")
    if algorithm not in provider.algorithms:
        raise OIDCFailure(OIDCFailure.REJECTED, f"algorithm {algorithm} not allowed for {provider.id}")
    return algorithm


def key_for(key_set: KeySet, kid: object) -> Key | None:
    """The key named by `kid`; without a kid, the only key of the set."""
    if kid is None:
        return key_set.keys[0] if len(key_set.keys) == 1 else None
    return next((key for key in key_set.keys if key.kid == kid), None)


async def verified_claims(
    provider: OIDCProvider, metadata: ProviderMetadata, id_token: str, *, nonce: str, now: datetime
) -> dict[str, Any]:
    """The claims of a valid ID token for this provider and sign-in; OIDCFailure for anything else."""
    header = unverified_header(id_token)
    algorithm = allowed_algorithm(provider, header.get("alg"))
    key = key_for(await signing_keys(provider, metadata), header.get("kid"))
    if key is None:
        # The provider may have rotated its keys since we cached them: ask once more, then give up.
        key = key_for(await signing_keys(provider, metadata, refresh=True), header.get("kid"))
    if key is None:
        raise OIDCFailure(OIDCFailure.REJECTED, f"ID token signed with unknown key {header.get('kid')!r}")
    try:
        claims = dict(jwt.decode(id_token, key, algorithms=[algorithm]).claims)
    except (JoseError, ValueError) as error:
        raise OIDCFailure(OIDCFailure.REJECTED, f"ID token signature: {error!r}") from error
    registry = jwt.JWTClaimsRegistry(
        now=int(now.timestamp()),
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": metadata.issuer},
        aud={"essential": True, "value": provider.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as error:
        raise OIDCFailure(OIDCFailure.CLOCK, f"ID token expired: exp={claims.get('exp')}") from error
    except InvalidClaimError as error:
        kind = OIDCFailure.CLOCK if error.claim in {"iat", "nbf"} else OIDCFailure.REJECTED
        raise OIDCFailure(kind, f"ID token claim {error.claim}: {error.description}") from error
    except MissingClaimError as error:
        raise OIDCFailure(OIDCFailure.REJECTED, f"ID token lacks {error.claim}") from error
    if not hmac.compare_digest(str(claims["nonce"]).encode(), nonce.encode()):
        raise OIDCFailure(OIDCFailure.REJECTED, "ID token nonce is not the one of this sign-in")
    audience = claims["aud"]
    # OIDC Core §3.1.3.7: with several audiences, the authorized party must be us.
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != provider.client_id:
        raise OIDCFailure(OIDCFailure.REJECTED, f"ID token azp {claims.get('azp')!r} is not our client id")
    return claims
