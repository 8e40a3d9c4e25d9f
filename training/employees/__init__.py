"""HR: employees, imports, set-password links, deactivation and assignments."""
