import ZFlowCore
