"""The choices a hold's dialog may offer, from the hub's routing rules (gift substitutes, carriers).

The hub knows the site's rules file, catalogue and gift stock; a desk PC does not (it must not read
a rules file shipped with the client). So the hub sends the options: with the holds that offer a
choice (``details.options`` of ``gift_stock`` and ``carrier_area``, :func:`gift_options`,
:func:`carrier_options`) and for any order through ``GET /api/v1/orders/{id}/options``
(:func:`playbook_options`). The same :func:`playbook_options` checks a ``hold_released`` at the hub
(``hub/actions.py``), so what the dialog offers and what the hub accepts are one set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from core.model import Recipient
from core.playbooks import Options

if TYPE_CHECKING:  # hub.routing imports this module to put options on its holds
    from hub.routing import Rules

__all__ = ["carrier_options", "gift_options", "playbook_options"]


def _in_stock_gifts(rules: Rules, levels: Mapping[str, int] | None = None) -> set[str]:
    """Gift SKUs of the catalogue that can be sent now.

    ``levels``: available units of the SKUs counted at the order's warehouse (``hub.stock.available``);
    those are read there, any other gift from the rules' static ``gift_stock`` (a gift the list leaves
    out is in stock).
    """
    levels = levels or {}
    return {sku for sku, item in rules.catalogue.items()
            if item.is_gift and (levels[sku] if sku in levels else rules.gift_stock.get(sku, 1)) > 0}


def _covering(rules: Rules, recipient: Recipient | None) -> set[str]:
    """Carriers of the rules that deliver to ``recipient`` (none when the address is unknown)."""
    if recipient is None:
        return set()
    return {code for code, spec in rules.carrier_specs.items() if spec.covers(recipient)}


def _sku_names(rules: Rules, skus: Iterable[str]) -> dict[str, str]:
    return {sku: rules.catalogue[sku].name for sku in skus if sku in rules.catalogue}


def _carrier_names(rules: Rules) -> dict[str, str]:
    return {code: spec.name for code, spec in rules.carrier_specs.items()}


def gift_options(rules: Rules, levels: Mapping[str, int] | None = None) -> Options:
    """A ``gift_stock`` hold's choices: the gift SKUs in stock, with their names (kept small: no catalogue)."""
    gifts = _in_stock_gifts(rules, levels)
    return Options(gift_skus=gifts, names=_sku_names(rules, gifts))


def carrier_options(rules: Rules, recipient: Recipient | None) -> Options:
    """A ``carrier_area`` hold's choices: every carrier, those that cover the address, and their names."""
    return Options(carriers=set(rules.carrier_specs), covering_carriers=_covering(rules, recipient),
                   names=_carrier_names(rules))


def _recipient(doc: dict[str, Any]) -> Recipient | None:
    try:
        return Recipient(**doc["recipient"])
    except (TypeError, KeyError):
        return None


def playbook_options(rules: Rules, doc: dict[str, Any], levels: Mapping[str, int] | None = None) -> Options:
    """What the routing rules allow for this order: gift SKUs in stock, SKUs, carriers (covering it), names.

    ``names`` reads every catalogue SKU and every carrier code as a person would.
    """
    return Options(gift_skus=_in_stock_gifts(rules, levels), skus=set(rules.catalogue), carriers=set(rules.carrier_specs),
                   covering_carriers=_covering(rules, _recipient(doc)),
                   names={**_sku_names(rules, rules.catalogue), **_carrier_names(rules)})
