"""How the web API says what is wrong: a library error as a JSON body that names the request field.

The library's `ConfigError` carries the field it refuses (`max_len`, `prefix`) in its Python name;
the API's request fields are those names but for a few, listed in `JSON_FIELDS`. `error_body`
writes the message with every field in the request's words and adds `field` (with the value and the
reason apart), so the page marks that control and words the message without reading it. A worker process sends the body as it is (`Refused`).
"""

from __future__ import annotations

from ..errors import NO_VALUE, ConfigError, XiamingError, show_value

JSON_FIELDS = {"lengths": "given_len"}  # library field -> request field, where they differ


def json_field(field: str) -> str:
    """The request field that sets the library's `field`."""
    return JSON_FIELDS.get(field, field)


def error_body(exc: XiamingError) -> dict:
    """`{"detail": one line}`, and when the error names the field at fault: `field` (the request field),
    `value` (the value refused, as the message shows it; absent when the field as a whole is at fault),
    `reason` (what is wrong, each other field it mentions written `{field}`) and `refs` (those fields),
    so that the page can write the message in its own words without reading `detail`."""
    if isinstance(exc, Refused):
        return dict(exc.body)
    if isinstance(exc, ConfigError) and exc.field is not None:
        body = {"detail": exc.render(json_field), "field": json_field(exc.field)}
        if exc.value is not NO_VALUE:
            body["value"] = show_value(exc.value)
        reason = exc.reason
        for ref in exc.refs:
            reason = reason.replace("{" + ref + "}", "{" + json_field(ref) + "}")
        return {**body, "reason": reason, "refs": [json_field(ref) for ref in exc.refs]}
    return {"detail": str(exc)}


def invalid_field(errors: list[dict]) -> dict:
    """For a request FastAPI refused (422): the request field its first error is about, with pydantic's
    reason, as `error_body` gives them (nothing when the error is about the body as a whole)."""
    loc = [part for part in (errors[0].get("loc", ()) if errors else ()) if part != "body"]
    if not loc or not isinstance(loc[0], str) or errors[0].get("type") == "json_invalid":
        return {}
    return {"field": loc[0], "reason": str(errors[0].get("msg", "invalid")), "refs": []}


class Refused(XiamingError):
    """A library error raised in a worker process, carried back as its JSON body."""

    def __init__(self, body: dict) -> None:
        super().__init__(body.get("detail", "refused"))
        self.body = body
