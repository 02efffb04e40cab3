from django.views.generic import DetailView

from reports.models import ServiceRequest


class ReportDetailView(DetailView):
    template_name = "reports/report_detail.html"
    context_object_name = "report"

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return ServiceRequest.objects.public().with_public_related()
