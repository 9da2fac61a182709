"""Names of the role groups created by partners/migrations/0003_roles.py."""

SALES_REP = "Sales rep"
MANAGER = "Manager"
