"""Home pages: each staff member's start page by role (a village cadre's to-do, the town office's and county's dashboards)."""
