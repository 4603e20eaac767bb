from django.urls import path

from . import views

app_name = "guides"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:key>/", views.guide, name="guide"),
    path("<slug:key>.pdf", views.guide_pdf, name="guide_pdf"),
]
