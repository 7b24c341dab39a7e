"""Fixtures of the provisioning tier (fresh Bookworm VMs under qemu): see vm.py."""

from __future__ import annotations

from tests.provision.vm import (
                                bookworm_image,
                                fresh_vm,
                                offline_bundle,
                                own_fresh_vm,
                                provisioned_vm,
)

__all__ = ["bookworm_image", "fresh_vm", "offline_bundle", "own_fresh_vm", "provisioned_vm"]
