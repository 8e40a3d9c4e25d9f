"""HR: dashboard, employee list and page, exports."""
