"""HTML reports: one self-contained file from a run folder (`saekit report`). The top layer of
saekit — nothing imports it."""

from saekit.reports.build import ReportConfig, ReportResult, build_report
from saekit.reports.dashboards import DashboardConfig

__all__ = ["DashboardConfig", "ReportConfig", "ReportResult", "build_report"]
