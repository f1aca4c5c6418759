"""The operator's web dashboard: feeds, stories, subscriptions and trends, server-rendered."""

from .server import Dashboard, DashboardError

__all__ = ["Dashboard", "DashboardError"]
