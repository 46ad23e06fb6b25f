"""Carriers: e-waybill providers (面单), tracking providers (物流轨迹) and their outbound queues.

The contract every provider adapter implements is :mod:`hub.carriers.base`; docs/carriers.md says
which public source each request, field and signature rule came from.
"""
