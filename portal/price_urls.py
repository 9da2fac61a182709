"""The portal's price list URLs (/portal/prices/…, names ``portal:prices``, ``portal:price_quote``)."""

from django.urls import path

from portal import price_views as views

urlpatterns = [
    path("", views.price_list, name="prices"),
    path("quote/", views.price_quote, name="price_quote"),
]
