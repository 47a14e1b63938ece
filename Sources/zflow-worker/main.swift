import ZFlow

WorkerMain.run(functions: StandardFunctions.registry)
