"""Staff onboarding pages under /onboarding/ (URL names ``onboarding_staff:…``; library.onboarding_staff_views)."""

from django.urls import path

from library import onboarding_staff_views as views

app_name = "onboarding_staff"

urlpatterns = [
    path("", views.home, name="home"),  # the progress report per partner (managers: all; reps: their partners)
    path("partners/<int:partner_pk>/", views.partner, name="partner"),  # one partner's users
    path("stalls/", views.stalls, name="stalls"),  # where partners stop
    path("questions/", views.questions, name="questions"),
    path("questions/<int:pk>/answer/", views.question_answer_view, name="answer"),
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/<int:pk>/file/", views.review_file, name="review_file"),
    path("reviews/<int:pk>/", views.review_decide, name="review"),
    # managers: tracks, steps, quizzes, content pages
    path("tracks/", views.track_list, name="tracks"),
    path("tracks/new/", views.track_edit, name="track_create"),
    path("tracks/<int:pk>/", views.track_detail, name="track"),
    path("tracks/<int:pk>/edit/", views.track_edit, name="track_edit"),
    path("tracks/<int:track_pk>/steps/new/", views.step_edit, name="step_create"),
    path("tracks/<int:track_pk>/steps/<int:pk>/edit/", views.step_edit, name="step_edit"),
    path("steps/<int:pk>/move/", views.step_move_view, name="step_move"),
    path("steps/<int:pk>/delete/", views.step_delete_view, name="step_delete"),
    path("steps/<int:pk>/quiz/", views.quiz, name="quiz"),
    path("quiz-questions/<int:pk>/delete/", views.quiz_question_delete_view, name="quiz_question_delete"),
    path("pages/", views.page_list, name="pages"),
    path("pages/new/", views.page_edit, name="page_create"),
    path("pages/<int:pk>/edit/", views.page_edit, name="page_edit"),
]
