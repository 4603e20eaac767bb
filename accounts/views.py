"""Login steps for the second factor, the Security page and My account
(any schema: the public host for platform staff, a country host for its users).

Views parse input, call one service or selector, and render. Security changes
(the authenticator app, backup codes, turning two-step sign-in off, the
e-mail address) first ask again for the password and the current code:
allauth's reauthentication, with accounts.forms.StepUpForm as its form.
"""

from base64 import b32encode
from binascii import unhexlify

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import get_public_schema_name

from core.access import access_exempt
from core.compat import login_stage_required, stash_login

from . import services
from .forms import TOO_MANY_CODES, WRONG_CODE, CodeForm, EmailChangeForm, EnrolForm, LanguageForm
from .qr import qr_svg
from .selectors import backup_code_count, totp_device_of, two_factor_required
from .stages import BACKUP_CODES, ENROL, TwoFactorStage

SECURITY_KEY_SESSION = "sms_totp_key"  # secret of an enrolment in progress from the Security page


# Why these pages write no access-log row (core.access).
SIGN_IN_STEP = "a step of signing in; the sign-in itself is logged (audit.signals)"
OWN_ACCOUNT = "the signed-in person's own account and two-step sign-in"


def _too_many_message() -> str:
    return str(TOO_MANY_CODES)


def _wrong_code_message() -> str:
    return str(WRONG_CODE)


def _next_url(request, default: str = "/") -> str:
    url = request.POST.get("next") or request.GET.get("next") or default
    if not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return default
    return url


def _enrolment_context(*, user, key: str, form) -> dict:
    uri = TOTPDevice(user=user, key=key, name=services.TOTP_DEVICE_NAME).config_url
    secret = b32encode(unhexlify(key)).decode()
    return {
        "form": form,
        "qr_svg": qr_svg(uri),
        # Groups of 4 letters are easier to type into a phone by hand.
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
    }


# --- Steps of the login (the user is not logged in yet) ------------------------


@access_exempt(SIGN_IN_STEP)
@login_stage_required(stage=TwoFactorStage.key, redirect_urlname="account_login")
def login_verify(request, stage):
    user = stage.login.user
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.two_factor_verify(user=user, code=form.cleaned_data["code"])
        except services.TooManyAttempts:
            form.add_error("code", _too_many_message())
        else:
            if device is not None:
                # django-otp marks the session verified when login() sees this.
                user.otp_device = device
                return stage.exit()
            form.add_error("code", _wrong_code_message())
    return render(request, "account/two_factor_verify.html", {"form": form})


@access_exempt(SIGN_IN_STEP)
@login_stage_required(stage=TwoFactorStage.key, redirect_urlname="account_login")
def login_enrol(request, stage):
    if stage.state.get("step") == BACKUP_CODES:
        return redirect("account_2fa_enrol_codes")
    if stage.state.get("step") != ENROL:
        return redirect("account_2fa_verify")
    user = stage.login.user
    key = stage.state.get("totp_key")
    if not key:
        key = stage.state["totp_key"] = services.new_totp_key()
        stash_login(request, stage.login)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.two_factor_enrol(user=user, key=key, code=form.cleaned_data["code"])
        except services.TooManyAttempts:
            form.add_error("code", _too_many_message())
        else:
            if result is not None:
                device, codes = result
                stage.state.pop("totp_key")
                stage.state.update(
                    step=BACKUP_CODES, backup_codes=codes, device=device.persistent_id
                )
                stash_login(request, stage.login)
                return redirect("account_2fa_enrol_codes")
            form.add_error("code", _wrong_code_message())
    context = _enrolment_context(user=user, key=key, form=form)
    context["during_login"] = True
    return render(request, "account/two_factor_enrol.html", context)


@access_exempt(SIGN_IN_STEP)
@login_stage_required(stage=TwoFactorStage.key, redirect_urlname="account_login")
def login_enrol_codes(request, stage):
    if stage.state.get("step") != BACKUP_CODES:
        return redirect(stage.urlname)
    if request.method == "POST":
        device = Device.from_persistent_id(stage.state["device"])
        # The codes were shown; they must not stay in the session.
        stage.state.pop("backup_codes", None)
        stage.login.user.otp_device = device
        return stage.exit()
    return render(
        request,
        "account/two_factor_backup_codes.html",
        {"codes": stage.state.get("backup_codes", []), "during_login": True},
    )


# --- The user's own pages ---------------------------------------------------------


def _required_for(request) -> bool:
    return two_factor_required(user=request.user, country=getattr(request, "tenant", None))


@access_exempt(OWN_ACCOUNT)
@login_required
def security_verify(request):
    """The second factor inside a session that lacks one (accounts.middleware.
    SecondFactorMiddleware sends people here): e.g. someone promoted to
    administrator since they signed in."""
    device = totp_device_of(request.user)
    if device is None:
        return redirect("account_security_enrol")
    if request.user.is_verified():
        return HttpResponseRedirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            matched = services.two_factor_verify(user=request.user, code=form.cleaned_data["code"])
        except services.TooManyAttempts:
            form.add_error("code", _too_many_message())
        else:
            if matched is not None:
                otp_login(request, matched)
                return HttpResponseRedirect(_next_url(request))
            form.add_error("code", _wrong_code_message())
    return render(
        request,
        "account/two_factor_verify.html",
        {"form": form, "in_session": True, "next": _next_url(request, "")},
    )


@access_exempt(OWN_ACCOUNT)
@login_required
def security(request):
    return render(
        request,
        "account/security.html",
        {
            "has_app": totp_device_of(request.user) is not None,
            "backup_code_count": backup_code_count(request.user),
            "required": _required_for(request),
        },
    )


@access_exempt(OWN_ACCOUNT)
@login_required
@reauthentication_required
def security_enrol(request):
    key = request.session.get(SECURITY_KEY_SESSION)
    if not key:
        key = request.session[SECURITY_KEY_SESSION] = services.new_totp_key()
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.two_factor_enrol(
                user=request.user, key=key, code=form.cleaned_data["code"]
            )
        except services.TooManyAttempts:
            form.add_error("code", _too_many_message())
        else:
            if result is not None:
                device, codes = result
                del request.session[SECURITY_KEY_SESSION]
                otp_login(request, device)
                messages.success(request, _("Two-step sign-in is now on."))
                return render(request, "account/two_factor_backup_codes.html", {"codes": codes})
            form.add_error("code", _wrong_code_message())
    context = _enrolment_context(user=request.user, key=key, form=form)
    # Sent here by SecondFactorMiddleware: say why.
    context["needed_now"] = _required_for(request) and not request.user.is_verified()
    return render(request, "account/two_factor_enrol.html", context)


@access_exempt(OWN_ACCOUNT)
@login_required
@require_POST
@reauthentication_required
def security_backup_codes(request):
    if totp_device_of(request.user) is None:
        return redirect("account_security")
    codes = services.backup_codes_regenerate(user=request.user)
    return render(request, "account/two_factor_backup_codes.html", {"codes": codes})


@access_exempt(OWN_ACCOUNT)
@login_required
@require_POST
@reauthentication_required
def security_disable(request):
    if _required_for(request):
        messages.error(request, _("Two-step sign-in is required for your account."))
    else:
        services.two_factor_reset(user=request.user)
        messages.success(request, _("Two-step sign-in is now off."))
    return redirect("account_security")


@access_exempt(OWN_ACCOUNT)
@login_required
@reauthentication_required
def email_change(request):
    form = EmailChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            services.email_change_request(
                user=request.user,
                email=email,
                confirm_url=lambda token: request.build_absolute_uri(
                    reverse("account_email_confirm", args=[token])
                ),
            )
        except ValidationError as error:
            form.add_error(None, error)  # the service names the field (email)
        else:
            messages.success(
                request,
                _(
                    "We sent a link to %(email)s. Your address changes when you open it "
                    "(within a day)."
                )
                % {"email": email},
            )
            return redirect("account_security")
    return render(request, "account/email_change.html", {"form": form})


@access_exempt(OWN_ACCOUNT)
@login_required
def email_change_confirm(request, token):
    """The link of the e-mail: the page asks to confirm (a mail scanner that
    opens links does not change the address), then the address changes."""
    try:
        email = services.email_change_check(user=request.user, token=token)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("account_security")
    if request.method == "POST":
        try:
            services.email_change_confirm(user=request.user, token=token)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Your e-mail address is now %(email)s.") % {"email": email})
        return redirect("account_security")
    return render(request, "account/email_confirm.html", {"email": email})


def _default_language_label(request) -> str:
    tenant = getattr(request, "tenant", None)
    if tenant is not None and tenant.schema_name != get_public_schema_name():
        name = get_language_info(tenant.default_language or "en")["name_translated"]
        return _("The country's language (%(language)s)") % {"language": name}
    return _("The browser's language")


@access_exempt(OWN_ACCOUNT)
@login_required
def my_account(request):
    form = LanguageForm(
        request.POST or None,
        initial={"language": request.user.language},
        default_label=_default_language_label(request),
    )
    if request.method == "POST" and form.is_valid():
        services.user_set_language(user=request.user, language=form.cleaned_data["language"])
        # A choice made before signing in must not override "the country's language".
        request.session.pop("sms_language", None)
        messages.success(request, _("Your language has been saved."))
        return redirect("account_me")
    return render(request, "account/my_account.html", {"form": form})


@access_exempt("stores the language of the person signed in")
@require_POST
def set_language(request):
    """The language menu in the top bar: saved on the account when signed in,
    otherwise kept in the session until the person signs in."""
    form = LanguageForm(request.POST, default_label="")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            services.user_set_language(user=request.user, language=language)
        else:
            request.session["sms_language"] = language
    return HttpResponseRedirect(next_url)
