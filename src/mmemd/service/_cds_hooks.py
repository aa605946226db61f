"""Placeholder router until this part lands."""

from __future__ import annotations

from fastapi import APIRouter

from mmemd.service._config import ServiceConfig


def build_router(config: ServiceConfig) -> APIRouter:
    return APIRouter()
