"""Every controller of payments, for asgi.py to register."""

from app.payments.checkout_routes import CONTROLLERS as CHECKOUT_CONTROLLERS
from app.payments.fee_routes import CONTROLLERS as FEE_CONTROLLERS
from app.payments.pitch_day_routes import CONTROLLERS as PITCH_DAY_CONTROLLERS
from app.payments.webhook_routes import CONTROLLERS as WEBHOOK_CONTROLLERS

CONTROLLERS = [*PITCH_DAY_CONTROLLERS, *CHECKOUT_CONTROLLERS, *FEE_CONTROLLERS, *WEBHOOK_CONTROLLERS]
