"""Streams: list and read (viewer), create, change and delete (operator)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from server_agent.api.deps import Operator, ServicesDep, Viewer
from server_agent.api.errors import ApiError
from server_agent.contract import Stream, StreamPatch, StreamSpec
from server_agent.runtime import Services
from server_agent.video.streams.errors import (
    StreamError,
    StreamExists,
    StreamNotFound,
    StreamReadOnly,
)
from server_agent.video.streams.service import StreamService
from server_agent.video.udp.errors import UrlError

router = APIRouter(tags=["streams"])


def _svc(svc: Services) -> StreamService:
    if svc.stream_service is None:
        raise ApiError(503, "unavailable", "stream analysis is not running", "see the agent log")
    return svc.stream_service


def _error(exc: Exception) -> ApiError:
    if isinstance(exc, StreamNotFound):
        return ApiError(404, "not_found", str(exc), "list /api/v1/streams")
    if isinstance(exc, StreamExists):
        return ApiError(409, "conflict", str(exc), "pick another id or PATCH the stream")
    if isinstance(exc, StreamReadOnly):
        return ApiError(409, "read_only", str(exc), "")
    return ApiError(422, "invalid_input", str(exc), "fix the stream definition and send again")


@router.get("/streams", response_model=list[Stream])
def list_streams(svc: ServicesDep, _: Viewer) -> list[Stream]:
    return _svc(svc).list()


@router.get("/streams/{stream_id}", response_model=Stream)
def get_stream(stream_id: str, svc: ServicesDep, _: Viewer) -> Stream:
    try:
        return _svc(svc).get(stream_id)
    except StreamError as exc:
        raise _error(exc) from None


@router.post("/streams", response_model=Stream, status_code=201)
def create_stream(spec: StreamSpec, svc: ServicesDep, _: Operator) -> Stream:
    try:
        return _svc(svc).create(spec)
    except (StreamError, UrlError, ValueError) as exc:
        raise _error(exc) from None


@router.patch("/streams/{stream_id}", response_model=Stream)
def patch_stream(stream_id: str, patch: StreamPatch, svc: ServicesDep, _: Operator) -> Stream:
    try:
        return _svc(svc).patch(stream_id, patch)
    except (StreamError, UrlError, ValueError) as exc:
        raise _error(exc) from None


@router.delete("/streams/{stream_id}", status_code=204)
def delete_stream(stream_id: str, svc: ServicesDep, _: Operator) -> Response:
    try:
        _svc(svc).delete(stream_id)
    except StreamError as exc:
        raise _error(exc) from None
    return Response(status_code=204)
