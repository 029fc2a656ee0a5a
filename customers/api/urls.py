from rest_framework.routers import SimpleRouter

from customers.api import views

router = SimpleRouter(trailing_slash=False)
router.register("customers", views.CustomerViewSet, basename="api-customer")
router.register("tariffs", views.TariffViewSet, basename="api-tariff")
router.register("transformers", views.TransformerViewSet, basename="api-transformer")
router.register("transformer-conditions", views.TransformerConditionViewSet, basename="api-transformer-condition")

urlpatterns = router.urls
