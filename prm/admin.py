"""Admin conventions shared by every app."""


class ReadOnlyAdminMixin:
    """For a ModelAdmin or inline of rows the admin must not write: history and audit rows, and rows whose writes
    must go through their owner's services (which keep derived data in step). They can be listed and viewed."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
