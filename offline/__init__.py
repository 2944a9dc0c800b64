"""Offline engine: run the program under mocks, record it, drive the policy pack like the engine."""
