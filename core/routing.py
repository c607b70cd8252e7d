"""Who handles a report: category + place -> a department of the municipality, or an outside body.

The rules, in order: the category's override for the most specific area containing the place (the smallest
one), then the category's outside body (the resident gets its referral text), then the category's
department, then the triage department (the citizen's desk).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import shapely
from shapely.geometry import Point
from shapely.geometry import Polygon as ShapelyPolygon

from core.profile import Names, Polygon, Profile


@dataclass(frozen=True)
class Route:
    department: str | None
    outside_body: str | None
    area: str | None
    referral: Names | None = None

    @property
    def is_referral(self) -> bool:
        """True when the problem is not the municipality's job and the resident is sent elsewhere."""
        return self.outside_body is not None


@dataclass(frozen=True)
class _Geometry:
    boundary: ShapelyPolygon
    areas: tuple[tuple[str, ShapelyPolygon], ...]   # smallest first


def _polygon(ring: Polygon) -> ShapelyPolygon:
    shape = ShapelyPolygon(ring)
    shapely.prepare(shape)
    return shape


def _build(profile: Profile) -> _Geometry:
    areas = sorted(((a.key, _polygon(a.polygon)) for a in profile.areas), key=lambda pair: pair[1].area)
    return _Geometry(_polygon(profile.boundary), tuple(areas))


_cache: dict[int, tuple[weakref.ref, _Geometry]] = {}


def _geometry(profile: Profile) -> _Geometry:
    """The profile's shapes, built once per profile object and dropped when the profile is."""
    key = id(profile)
    cached = _cache.get(key)
    if cached is not None and cached[0]() is profile:
        return cached[1]
    geometry = _build(profile)

    def forget(ref: weakref.ref, key: int = key) -> None:
        if _cache.get(key, (None,))[0] is ref:
            del _cache[key]

    _cache[key] = (weakref.ref(profile, forget), geometry)
    return geometry


def inside_boundary(profile: Profile, lat: float, lon: float) -> bool:
    """Whether the place is within the municipality (points on the boundary line count as inside)."""
    return _geometry(profile).boundary.covers(Point(lon, lat))


def area_at(profile: Profile, lat: float | None, lon: float | None) -> str | None:
    """The key of the most specific (smallest) area containing the place, or None."""
    if lat is None or lon is None:
        return None
    point = Point(lon, lat)
    return next((key for key, shape in _geometry(profile).areas if shape.covers(point)), None)


def _to(profile: Profile, key: str, area: str | None) -> Route:
    body = profile.outside_bodies.get(key)
    if body is not None:
        return Route(None, key, area, body.referral)
    return Route(key, None, area)


def route(profile: Profile, canonical_category: str, lat: float | None = None,
          lon: float | None = None) -> Route:
    """Where a report of `canonical_category` at (lat, lon) goes; without a place, area rules are skipped.

    An area override may name a department or an outside body of the profile.
    """
    category = profile.category(canonical_category)
    area = area_at(profile, lat, lon)
    override = category.by_area.get(area) if area else None
    if override:
        return _to(profile, override, area)
    if category.outside_body:
        return _to(profile, category.outside_body, area)
    return Route(category.department or profile.triage_department, None, area)
