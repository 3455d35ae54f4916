"""The indicators the town is judged on: per area and period, as a page, as JSON and on the dashboards."""
