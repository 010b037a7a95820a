"""The secret-chain policy pack: ``pulumi preview --policy-pack policy`` runs it against any stack."""

from pulumi_policy import PolicyPack
from secret_chain_policies import POLICIES

PolicyPack("secret-chain", policies=list(POLICIES))
