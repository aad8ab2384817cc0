from rest_framework.permissions import SAFE_METHODS, BasePermission


class HasViewPermissions(BasePermission):
    """The same Django permissions the pages ask for: `view.read_permissions` for GET/HEAD/OPTIONS,
    `view.write_permissions` for everything else. A method with no permissions listed is refused."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        needed = (
            getattr(view, "read_permissions", None)
            if request.method in SAFE_METHODS
            else getattr(view, "write_permissions", None)
        )
        return bool(needed) and user.has_perms(needed)


ROLE_PERMISSION = "configuration.view_storeconnection"  # every role (Viewer, Operator, Admin) has it


class HasARole(BasePermission):
    """A signed-in user with a role: the API schema and its docs are not for users without one."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(ROLE_PERMISSION))
