from allauth.account import views as allauth_views
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from project.accounts.context_processors import portal_home_url
from project.accounts.forms import ProfileForm
from project.accounts.policies import login_required, public


@public
def home(request):
    """Signed-in users land on their own portal; everyone else sees the landing page."""
    if request.user.is_authenticated:
        return redirect(portal_home_url(request.user))
    return render(request, "home.html")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@login_required
@sensitive_post_parameters("password")
def email(request):
    """allauth's change-email page (ACCOUNT_CHANGE_EMAIL, our ChangeEmailForm asks for the
    current password) without its "make primary" action: a new address becomes the account's
    only through the confirmation link mailed to it."""
    if request.method == "POST" and "action_primary" in request.POST:
        messages.error(request, "Open the link we mailed to the new address: confirming it makes the change.")
        return redirect("account_email")
    return allauth_views.email(request)
