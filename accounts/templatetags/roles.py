from django import template

from accounts.roles import ROLE_LABELS

register = template.Library()


@register.filter
def role_label(group_name: str) -> str:
    """ "charge_nurse" -> "Charge nurse"; groups that are not roles keep their name."""
    return ROLE_LABELS.get(group_name, group_name)
