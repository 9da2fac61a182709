"""Admin: identity providers (secret write-only, stored encrypted), the sign-in policy, SSO links and sessions
(read-only), and the User admin's deactivation going through ``accounts.services.user_deactivate``."""

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError

from accounts import services
from accounts.forms import AdminLoginForm
from accounts.models import AccountPolicy, IdentityProvider, SsoIdentity, TotpDevice, UserSession

User = get_user_model()


class IdentityProviderForm(forms.ModelForm):
    issuer = forms.URLField(max_length=300, assume_scheme="https",
                            help_text=IdentityProvider._meta.get_field("issuer").help_text)
    client_secret = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the stored secret. Stored encrypted; never shown again.",
    )

    class Meta:
        model = IdentityProvider
        fields = ["name", "slug", "enabled", "issuer", "client_id", "audience", "partner", "jit_enabled", "default_role",
                  "groups_claim", "group_roles"]

    def _post_clean(self):
        super()._post_clean()
        try:
            services.identity_provider_validate(self.instance)
        except ValidationError as error:
            self._update_errors(error)


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    form = IdentityProviderForm
    list_display = ["name", "slug", "audience", "partner", "enabled", "jit_enabled", "default_role", "issuer"]
    list_select_related = ["partner"]
    list_filter = ["enabled", "audience", "jit_enabled"]
    search_fields = ["name", "slug", "issuer"]
    raw_id_fields = ["partner"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "enabled", "issuer", "client_id", "client_secret"]}),
        ("Who signs in here", {"fields": ["audience", "partner", "jit_enabled", "default_role", "groups_claim",
                                          "group_roles"]}),
    ]

    def save_model(self, request, obj, form, change):
        services.identity_provider_save(idp=obj, client_secret=form.cleaned_data.get("client_secret") or None)

    def has_delete_permission(self, request, obj=None):
        return False  # switch it off instead (links to users are kept: PROTECT)


@admin.register(AccountPolicy)
class AccountPolicyAdmin(admin.ModelAdmin):
    fields = ["staff_must_use_sso", "staff_totp_required", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request):
        return not AccountPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = services.policy_save(staff_must_use_sso=obj.staff_must_use_sso,
                                     staff_totp_required=obj.staff_totp_required)
        obj.pk = saved.pk


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin):
    list_display = ["user", "provider", "subject", "email", "created_at", "last_login_at"]
    list_select_related = ["user", "provider"]
    list_filter = ["provider"]
    search_fields = ["subject", "email", "user__username"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "method", "ip_address", "user_agent"]
    list_select_related = ["user"]
    search_fields = ["user__username"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(description="Remove the authenticator app (a lost phone)")
def reset_totp(modeladmin, request, queryset):
    removed = sum(services.totp_reset(user=device.user, by=request.user) for device in queryset.select_related("user"))
    modeladmin.message_user(request, f"{removed} authenticator app(s) removed.", messages.SUCCESS)


@admin.register(TotpDevice)
class TotpDeviceAdmin(admin.ModelAdmin):
    """Who has an authenticator app; the secret is never shown. Removing one goes through the action."""

    list_display = ["user", "created_at", "confirmed_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    fields = ["user", "created_at", "confirmed_at"]
    readonly_fields = fields
    actions = [reset_totp]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(description="Deactivate: end their sessions, revoke their API keys and calendar feed")
def deactivate_users(modeladmin, request, queryset):
    done = 0
    for user in queryset.filter(is_active=True):
        try:
            services.user_deactivate(user=user, by=request.user)
            done += 1
        except ValidationError as error:
            modeladmin.message_user(request, f"{user}: {' '.join(error.messages)}", messages.ERROR)
    modeladmin.message_user(request, f"{done} user(s) deactivated.", messages.SUCCESS)


class UserAdmin(DjangoUserAdmin):
    """Django's User admin; unticking "Active" (or the action) deactivates through accounts.services, so sessions,
    API keys and the calendar feed end with it."""

    actions = [deactivate_users]

    def save_model(self, request, obj, form, change):
        was_active = change and "is_active" in form.changed_data and not obj.is_active
        if was_active and obj.pk == request.user.pk:
            obj.is_active = True
            messages.error(request, "You cannot deactivate yourself.")
        super().save_model(request, obj, form, change)
        if was_active and obj.pk != request.user.pk:
            services.user_deactivate(user=obj, by=request.user)


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
admin.site.login_form = AdminLoginForm  # the SSO policy holds on /admin/login/ too

# django-allauth's own tables are not how this project is configured (identity providers are IdentityProvider rows,
# links SsoIdentity rows; no email addresses, no stored tokens): hide their admin pages so nobody edits a dead end.
for _model in (EmailAddress, SocialApp, SocialAccount, SocialToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
