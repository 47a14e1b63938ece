import ZFlow

SchedulerMain.runMain()
