"""Files: list, chunked upload with the ``chunkCount`` handshake, complete, download.

Follows the Integration API v2 *Bulk Write* / *Bulk Read* file operations:

- ``POST …/files/{fileId}`` ``{"chunkCount": n}`` starts an upload ("Set the chunkcount to -1
  if you do not know how many chunks there will be. In that case, mark the upload complete
  after all chunks are uploaded"); with a known ``n`` the file is complete once chunks
  ``0..n-1`` have arrived.
- ``PUT …/files/{fileId}/chunks/{chunkId}`` (octet-stream, zero-based ids) → 204.
- ``POST …/files/{fileId}/complete`` → 200 with the ``File`` (its final ``chunkCount``).
- ``PUT …/files/{fileId}`` uploads the whole file as one chunk → 204.
- ``GET …/files/{fileId}`` (all bytes), ``…/chunks`` (ids), ``…/chunks/{chunkId}``; a file
  with ``chunkCount`` 0 has no content and answers 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from pshub.sandboxes.anaplan.context import Context
from pshub.sandboxes.anaplan.store import file_view
from pshub.sandboxes.anaplan.wire import API_ROOT, bad_request, envelope, not_found, page

FILE_PATH = "/workspaces/{workspace_id}/models/{model_id}/files/{file_id}"


def _chunk_index(chunk_id: str) -> int:
    if not chunk_id.isdigit():
        raise not_found(f"chunk {chunk_id}")
    return int(chunk_id)


class Files:
    """The upload state machine over the store (all steps inside one state transaction)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def begin(self, ws: str, model: str, file_id: str, count: int) -> dict[str, Any]:
        if count == 0 or count < -1:
            raise bad_request(f"Invalid chunkCount: {count}")
        with self.store.state.transaction():
            meta = self.ctx.file_meta(ws, model, file_id)
            self.store.drop_chunks(model, file_id)
            meta |= {"chunkCount": count, "declared": count, "complete": False}
            self.store.put_file(model, meta)
        return meta

    def put_chunk(self, ws: str, model: str, file_id: str, chunk_id: str, data: bytes) -> None:
        index = _chunk_index(chunk_id)
        with self.store.state.transaction():
            meta = self.ctx.file_meta(ws, model, file_id)
            declared = meta.get("declared")
            if meta.get("complete"):  # a new upload without the handshake replaces the old one
                self.store.drop_chunks(model, file_id)
                meta |= {"complete": False, "declared": None, "chunkCount": -1}
                declared = None
            if declared is not None and declared > 0 and index >= declared:
                raise bad_request(f"Chunk {index} is beyond the declared chunkCount {declared}")
            self.store.put_chunk(model, file_id, index, data)
            have = self.store.chunk_indexes(model, file_id)
            if declared is not None and declared > 0 and have == list(range(declared)):
                meta |= {"complete": True, "chunkCount": declared}
            self.store.put_file(model, meta)

    def complete(self, ws: str, model: str, file_id: str) -> dict[str, Any]:
        with self.store.state.transaction():
            meta = self.ctx.file_meta(ws, model, file_id)
            have = self.store.chunk_indexes(model, file_id)
            if not have or have != list(range(len(have))):
                raise bad_request(f"Upload incomplete: chunks received {have}, expected 0..n-1")
            declared = meta.get("declared")
            if declared is not None and declared > 0 and len(have) != declared:
                raise bad_request(f"Upload incomplete: {len(have)} of {declared} chunks received")
            meta |= {"complete": True, "chunkCount": len(have)}
            self.store.put_file(model, meta)
        return meta

    def single(self, ws: str, model: str, file_id: str, data: bytes) -> None:
        with self.store.state.transaction():
            meta = self.ctx.file_meta(ws, model, file_id)
            self.store.drop_chunks(model, file_id)
            self.store.put_chunk(model, file_id, 0, data)
            self.store.put_file(model, meta | {"complete": True, "chunkCount": 1, "declared": 1})

    def delete(self, ws: str, model: str, file_id: str) -> None:
        with self.store.state.transaction():
            meta = self.ctx.file_meta(ws, model, file_id)
            self.store.drop_chunks(model, file_id)
            self.store.put_file(
                model, meta | {"complete": False, "chunkCount": 0, "declared": None}
            )

    def content_indexes(self, ws: str, model: str, file_id: str) -> list[int]:
        meta = self.ctx.file_meta(ws, model, file_id)
        if not meta.get("complete"):
            raise not_found(f"file {file_id} holds no content")
        return self.store.chunk_indexes(model, file_id)


def router(ctx: Context) -> APIRouter:
    api = APIRouter(prefix=API_ROOT)
    files = Files(ctx)

    @api.get("/workspaces/{workspace_id}/models/{model_id}/files")
    def list_files(workspace_id: str, model_id: str, request: Request) -> dict[str, Any]:
        ctx.model(workspace_id, model_id)
        views = [file_view(f) for f in ctx.store.files(model_id)]
        return page(request, "file", "files", views, model_id)

    @api.post(FILE_PATH)
    def set_chunk_count(
        workspace_id: str, model_id: str, file_id: str, request: Request, payload: Any = Body(None)
    ) -> dict[str, Any]:
        count = payload.get("chunkCount") if isinstance(payload, dict) else None
        if not isinstance(count, int) or isinstance(count, bool):
            raise bad_request("chunkCount (integer) is required")
        meta = files.begin(workspace_id, model_id, file_id, count)
        return envelope(request, "file", model_id, file=file_view(meta))

    @api.put(FILE_PATH, status_code=204)
    async def upload_single(
        workspace_id: str, model_id: str, file_id: str, request: Request
    ) -> Response:
        data = await request.body()
        await run_in_threadpool(files.single, workspace_id, model_id, file_id, data)
        return Response(status_code=204)

    @api.delete(FILE_PATH, status_code=204)
    def delete_file(workspace_id: str, model_id: str, file_id: str) -> Response:
        files.delete(workspace_id, model_id, file_id)
        return Response(status_code=204)

    @api.get(FILE_PATH)
    def download(workspace_id: str, model_id: str, file_id: str) -> Response:
        files.content_indexes(workspace_id, model_id, file_id)
        data = ctx.store.content(model_id, file_id)
        return Response(data, media_type="application/octet-stream")

    @api.get(FILE_PATH + "/chunks")
    def list_chunks(
        workspace_id: str, model_id: str, file_id: str, request: Request
    ) -> dict[str, Any]:
        indexes = files.content_indexes(workspace_id, model_id, file_id)
        views = [{"id": str(i), "name": f"Chunk {i}"} for i in indexes]
        return page(request, "chunk", "chunks", views, model_id)

    @api.get(FILE_PATH + "/chunks/{chunk_id}")
    def get_chunk(workspace_id: str, model_id: str, file_id: str, chunk_id: str) -> Response:
        files.content_indexes(workspace_id, model_id, file_id)
        data = ctx.store.chunk(model_id, file_id, _chunk_index(chunk_id))
        if data is None:
            raise not_found(f"chunk {chunk_id}")
        return Response(data, media_type="application/octet-stream")

    @api.put(FILE_PATH + "/chunks/{chunk_id}", status_code=204)
    async def put_chunk(
        workspace_id: str, model_id: str, file_id: str, chunk_id: str, request: Request
    ) -> Response:
        data = await request.body()
        await run_in_threadpool(files.put_chunk, workspace_id, model_id, file_id, chunk_id, data)
        return Response(status_code=204)

    @api.post(FILE_PATH + "/complete")
    def complete(
        workspace_id: str, model_id: str, file_id: str, request: Request
    ) -> dict[str, Any]:
        meta = files.complete(workspace_id, model_id, file_id)
        return envelope(request, "file", model_id, file=file_view(meta))

    return api
