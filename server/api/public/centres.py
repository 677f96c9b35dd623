"""Centres, the kiosk catalogue, services with waiting counts, and the hall snapshot."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from server.api.schemas import CentreQuery, ServiceOut
from server.domain.clock import local_day, utcnow
from server.domain.errors import NotFound
from server.models import Centre, CounterService, Service
from server.runtime import db, now
from server.services.hall import catalog, centre_or_404, snapshot
from server.services.queue import waiting_counts
from server.services.views import service_view

blp = Blueprint("centres", __name__, description="Centres, services and the hall")


def resolve_centre_id(centre_id: int | None) -> int:
    """The requested centre, else the configured default, else the only/first one."""
    session = db().session
    if centre_id is not None:
        return centre_or_404(session, centre_id).id
    code = current_app.config["TTHCC"].default_centre_code
    centre = session.execute(select(Centre).where(Centre.code == code)).scalar_one_or_none()
    if centre is None:
        centre = session.execute(select(Centre).order_by(Centre.id).limit(1)).scalar_one_or_none()
    if centre is None:
        raise NotFound("Chưa có trung tâm nào được cấu hình.", "no centre is configured yet")
    return centre.id


@blp.route("/centres")
class CentresView(MethodView):
    @blp.response(200)
    def get(self) -> list[dict]:
        """All centres of this deployment."""
        rows = db().session.execute(select(Centre).order_by(Centre.id)).scalars()
        return [{"id": c.id, "code": c.code, "name": c.name, "subtitle": c.subtitle} for c in rows]


@blp.route("/services")
class ServicesView(MethodView):
    @blp.arguments(CentreQuery, location="query")
    @blp.response(200, ServiceOut(many=True))
    def get(self, args: dict) -> list[dict]:
        """Services of a centre, with today's waiting counts and the counters serving each."""
        from sqlalchemy.orm import selectinload

        session = db().session
        centre_id = resolve_centre_id(args["centre_id"])
        centre = session.get(Centre, centre_id)
        counts = waiting_counts(session, centre_id, local_day(utcnow(), centre.timezone))
        services = session.execute(
            select(Service)
            .where(Service.centre_id == centre_id)
            .options(selectinload(Service.counter_links).selectinload(CounterService.counter))
            .order_by(Service.position, Service.id)
        ).scalars()
        return [service_view(s, counts.get(s.id, 0)) for s in services]


@blp.route("/centres/<int:centre_id>/catalog")
class CatalogView(MethodView):
    @blp.response(200)
    def get(self, centre_id: int) -> dict:
        """What the kiosk offers: fields, their services, priority categories."""
        return catalog(db().session, centre_id, now())


@blp.route("/centres/<int:centre_id>/snapshot")
class SnapshotView(MethodView):
    @blp.response(200)
    def get(self, centre_id: int) -> dict:
        """The whole hall now: counters and current tickets, waiting counts, recent calls."""
        return snapshot(db().session, centre_id, utcnow())


@blp.route("/catalog")
class DefaultCatalogView(MethodView):
    @blp.arguments(CentreQuery, location="query")
    @blp.response(200)
    def get(self, args: dict) -> dict:
        """The kiosk catalogue of the default (or given) centre."""
        return catalog(db().session, resolve_centre_id(args["centre_id"]), now())
