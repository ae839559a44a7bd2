"""Configuration-driven rules: legal entities, tax profiles, service lines, templates, rate cards.

Loaded from YAML files in a policy directory, validated with errors that name the file and the
field path, and turned into domain values (:class:`pshub.domain.provisioning.ProvisioningRules`).
"""

from pshub.policy.loader import DEFAULT_POLICY_DIR, Policy, PolicyError, check_policy, load_policy

__all__ = ["DEFAULT_POLICY_DIR", "Policy", "PolicyError", "check_policy", "load_policy"]
