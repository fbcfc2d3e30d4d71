// Everything for training updates: optimizers and learning-rate schedules.
#pragma once

#include "optim/adam.h"
#include "optim/factory.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
