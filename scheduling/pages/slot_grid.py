"""The slot grid: free chair time for a course's due window, time by day, for booking and moving."""

urlpatterns: list = []
