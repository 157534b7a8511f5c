"""No tables of its own: roles are auth groups (accounts.roles), tokens are DRF authtoken rows."""
