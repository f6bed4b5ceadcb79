"""Helpers for tests, soaks and demos (real parts, no mocks); nothing here is imported by the runtime."""
