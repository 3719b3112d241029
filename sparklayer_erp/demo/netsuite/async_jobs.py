"""Asynchronous requests: ``Prefer: respond-async`` → 202 + a job whose one task holds the outcome;
``X-NetSuite-Idempotency-Key`` refuses a second submission with the same key (400 ``IDEMPOTENCY_ERROR``,
``Location`` of the first job). Synchronous calls ignore the key.

The emulator runs the request at once, so a job is complete when first polled. Jobs live in memory;
progress values other than ``succeeded`` (``failed`` here) are not confirmed.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sparklayer_erp.demo.netsuite import errors
from sparklayer_erp.demo.netsuite.record_types import record_type
from sparklayer_erp.demo.netsuite.representation import Renderer

JOB_PATH = "/services/rest/async/v1/job"


@dataclass
class Job:
    id: int
    status: int
    location: str | None
    body: bytes
    started: str
    ended: str

    @property
    def succeeded(self) -> bool:
        return self.status < 400


class Jobs:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._keys: dict[str, int] = {}

    def job_for_key(self, key: str | None) -> int | None:
        with self._lock:
            return self._keys.get(key) if key else None

    def add(self, status: int, location: str | None, body: bytes, started: str, key: str | None) -> int:
        with self._lock:
            job_id = len(self._jobs) + 1
            self._jobs[job_id] = Job(job_id, status, location, body, started,
                                     dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
            if key:
                self._keys[key] = job_id
            return job_id

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(int(job_id)) if job_id.isdigit() else None
        if job is None:
            raise errors.nonexistent()
        return job


def idempotency_error(job_id: int) -> Response:
    error = errors.NsError(400, "IDEMPOTENCY_ERROR", 'A request with the same idempotency key is already submitted. '
                           'See the "Location" header for a link to the previously submitted job')
    response = error.response()
    response.headers["Location"] = f"{JOB_PATH}/{job_id}"
    response.headers["Preference-Applied"] = "respond-async"
    return response


def accepted(job_id: int) -> Response:
    return Response(status_code=202, headers={"Location": f"{JOB_PATH}/{job_id}",
                                              "Preference-Applied": "respond-async"})


def _root(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{JOB_PATH}"


async def job(request: Request) -> Response:
    found = request.app.state.emulator.jobs.get(request.path_params["job"])
    base = f"{_root(request)}/{found.id}"
    return JSONResponse({"links": [{"rel": "self", "href": base}], "completed": True, "id": str(found.id),
                         "progress": "succeeded" if found.succeeded else "failed",
                         "task": {"links": [{"rel": "related", "href": f"{base}/task"}]}})


async def tasks(request: Request) -> Response:
    found = request.app.state.emulator.jobs.get(request.path_params["job"])
    base = f"{_root(request)}/{found.id}/task"
    return JSONResponse({"links": [{"rel": "self", "href": base}], "count": 1, "hasMore": False, "offset": 0,
                         "totalResults": 1, "items": [{"links": [{"rel": "self", "href": f"{base}/1"}], "id": "1"}]})


async def task(request: Request) -> Response:
    found = request.app.state.emulator.jobs.get(request.path_params["job"])
    if request.path_params["task"] != "1":
        raise errors.nonexistent()
    base = f"{_root(request)}/{found.id}/task/1"
    return JSONResponse({"links": [{"rel": "self", "href": base}], "completed": True, "id": "1",
                         "progress": "succeeded" if found.succeeded else "failed", "startTime": found.started,
                         "endTime": found.ended, "result": {"links": [{"rel": "related", "href": f"{base}/result"}]}})


async def result(request: Request) -> Response:
    emulator = request.app.state.emulator
    found = emulator.jobs.get(request.path_params["job"])
    if request.path_params["task"] != "1":
        raise errors.nonexistent()
    if not found.succeeded:
        return Response(found.body, status_code=found.status, media_type=errors.ERROR_MEDIA_TYPE)
    if found.location:
        type_name, record_id = found.location.rstrip("/").split("/")[-2:]
        rtype = record_type(type_name)
        with emulator.db.tx() as conn:
            doc = emulator.store.load(conn, rtype.name, int(record_id)) if rtype else None
            if doc is not None and rtype is not None:
                root = f"{request.url.scheme}://{request.url.netloc}/services/rest"
                return JSONResponse(Renderer(emulator.store, conn, root).record(rtype, doc))
    body: Any = json.loads(found.body) if found.body else {}
    return JSONResponse(body)


ROUTES = [
    Route(JOB_PATH + "/{job}", job, methods=["GET"]),
    Route(JOB_PATH + "/{job}/task", tasks, methods=["GET"]),
    Route(JOB_PATH + "/{job}/task/{task}", task, methods=["GET"]),
    Route(JOB_PATH + "/{job}/task/{task}/result", result, methods=["GET"]),
]
