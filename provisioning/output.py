"""Human-readable report of a provisioning run (for the commands)."""

from django.utils.translation import gettext as _

from .services import CREATE, DEACTIVATE, UPDATE, ProvisioningResult


def result_lines(result: ProvisioningResult) -> list[str]:
    lines = []
    state = _("new country") if result.new_country else _("existing country")
    lines.append(
        _("Plan for %(code)s — %(name)s (%(state)s):")
        % {"code": result.code, "name": result.name, "state": state}
    )
    if not result.changes:
        lines.append("  " + _("nothing to change: the country already matches the protocol."))
    lines.extend(f"  {change}" for change in result.changes)
    summary = {
        "created": result.count(CREATE),
        "updated": result.count(UPDATE),
        "deactivated": result.count(DEACTIVATE),
    }
    if not result.applied:
        lines.append(
            _(
                "Dry run: nothing was changed (%(created)s to create, %(updated)s to update, "
                "%(deactivated)s to deactivate)."
            )
            % summary
        )
        return lines
    lines.append(
        _("Done: %(created)s created, %(updated)s updated, %(deactivated)s deactivated.") % summary
    )
    lines.append(_("Country address: %(url)s/") % {"url": result.base_url})
    if result.invitations:
        lines.append(
            _(
                "One-time links for the new administrators (also e-mailed; each works once, "
                "then asks them to set up two-factor authentication):"
            )
        )
        for invitation in result.invitations:
            lines.append(
                f"  {invitation.full_name} <{invitation.email}> "
                + _("username: %(username)s") % {"username": invitation.username}
            )
            lines.append(f"    {invitation.link}")
    return lines
